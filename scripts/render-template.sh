#!/usr/bin/env bash
# Print a deploy/ template with its @NAME@ placeholders filled in:
#   scripts/render-template.sh deploy/nginx/loaxa.conf LISTEN=80 SERVER_NAME=loaxa.tinh.gov.vn ...
# Fails (exit 1, nothing printed) if a placeholder is left without a value.
set -euo pipefail
if [ "$#" -lt 1 ] || [ ! -f "$1" ]; then
    echo "Cách dùng: $0 TỆP_MẪU TÊN=GIÁ_TRỊ ..." >&2
    exit 2
fi
content="$(cat "$1")"
shift
for pair in "$@"; do
    case "$pair" in
        *=*) ;;
        *) echo "Đối số «$pair» phải có dạng TÊN=GIÁ_TRỊ." >&2; exit 2 ;;
    esac
    key="${pair%%=*}"
    value="${pair#*=}"
    content="${content//@${key}@/${value}}"
done
left="$(printf '%s\n' "$content" | grep -o '@[A-Z_][A-Z0-9_]*@' | sort -u | tr '\n' ' ' || true)"
if [ -n "$left" ]; then
    echo "Còn thiếu giá trị cho: ${left}— thêm TÊN=GIÁ_TRỊ cho từng mục." >&2
    exit 1
fi
printf '%s\n' "$content"
