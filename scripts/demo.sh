#!/usr/bin/env bash
# The main job: install loaxa into .venv and run the demo on the embedded default (SQLite, offline TTS).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for arg in "$@"; do
    if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then
        # Printed before installing anything, so a newcomer can read it first.
        cat <<'HELP'
Cách dùng: ./scripts/demo.sh [TÙY_CHỌN]

  Cài loaxa vào .venv (lần đầu, cần mạng tới kho gói PyPI), tạo dữ liệu mẫu tỉnh Gia Lai trong
  ./loaxa-data, đọc bản tin thành âm thanh (không cần mạng), lập lịch tuần rồi chạy trang quản trị,
  bộ lập lịch nền và một đài mô phỏng (DEMO-01). Ctrl+C để dừng tất cả. Xóa ./loaxa-data để làm lại.

Tùy chọn:
  --seed-only        Chỉ tạo dữ liệu mẫu (và âm thanh, lịch phát) rồi thoát.
  --host ĐỊA_CHỈ     Địa chỉ trang quản trị lắng nghe (mặc định 127.0.0.1; 0.0.0.0 cho mọi địa chỉ).
  --port CỔNG        Cổng của trang quản trị (mặc định 8080).
  --help             Hiện hướng dẫn này rồi thoát.
HELP
        exit 0
    fi
done
"$root/scripts/bootstrap.sh" server
cd "$root"
exec "$root/.venv/bin/loaxa" demo "$@"
