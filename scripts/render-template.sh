#!/usr/bin/env bash
# Print a deploy/ template with its @NAME@ placeholders filled in:
#   scripts/render-template.sh deploy/nginx/loaxa.conf LISTEN=80 SERVER_NAME=loaxa.tinh.gov.vn ...
# A value with commas is a list: every line naming that placeholder is written once per item, e.g.
# UPSTREAM=10.0.0.11:8080,10.0.0.12:8080 gives one `server` line per app node.
# Fails (exit 1, nothing printed) if a placeholder is left without a value.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true  # bash 5.2: a "&" in a value stays a "&"
if [ "$#" -lt 1 ] || [ ! -f "$1" ]; then
    echo "Cách dùng: $0 TỆP_MẪU TÊN=GIÁ_TRỊ[,GIÁ_TRỊ…] ..." >&2
    exit 2
fi
mapfile -t lines < "$1"
shift
for pair in "$@"; do
    case "$pair" in
        *=*) ;;
        *) echo "Đối số «$pair» phải có dạng TÊN=GIÁ_TRỊ." >&2; exit 2 ;;
    esac
    key="${pair%%=*}"
    value="${pair#*=}"
    IFS=, read -r -a items <<< "$value"
    [ "${#items[@]}" -gt 0 ] || items=("")
    out=()
    for line in "${lines[@]}"; do
        if [[ "$line" == *"@${key}@"* ]]; then
            for item in "${items[@]}"; do out+=("${line//@${key}@/${item}}"); done
        else
            out+=("$line")
        fi
    done
    lines=("${out[@]}")
done
content="$(printf '%s\n' "${lines[@]}")"
left="$(printf '%s\n' "$content" | grep -o '@[A-Z_][A-Z0-9_]*@' | sort -u | tr '\n' ' ' || true)"
if [ -n "$left" ]; then
    echo "Còn thiếu giá trị cho: ${left}— thêm TÊN=GIÁ_TRỊ cho từng mục." >&2
    exit 1
fi
printf '%s\n' "$content"
