#!/usr/bin/env bash
# Install Debian's audio players for the station agent, if missing: mpv (the agent's default), and
# on request ffplay (Debian's ffmpeg package). The agent plays with whichever is installed
# (--player mpv|ffplay); the timing benchmark (benchmarks/bench_agent_timing.py) measures the ones
# it finds.
#
#   scripts/install-players.sh [mpv] [ffplay]     (no argument: mpv)
#
# ffplay only on a station box: on a machine that also renders audio (the server, a developer's
# machine), audio/ffmpeg.py then prefers Debian's ffmpeg 5.1, whose volumedetect fails there
# ("n_samples: 0 ... Error reinitializing filters").
set -euo pipefail
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(mpv)
packages=()
for player in "${wanted[@]}"; do
    case "$player" in
        mpv) command -v mpv >/dev/null 2>&1 || packages+=(mpv) ;;
        ffplay) command -v ffplay >/dev/null 2>&1 || packages+=(ffmpeg) ;;
        *) echo "Không biết trình phát «$player»; chọn mpv hoặc ffplay." >&2; exit 2 ;;
    esac
done
if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi
source "$(dirname "$0")/_apt.sh"
apt_install "${packages[@]}"
for player in "${wanted[@]}"; do
    echo "Đã có $player: $(command -v "$player")"
done
