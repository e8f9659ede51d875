#!/usr/bin/env bash
# Installs the media tools lsdvr records with (ffmpeg, ffprobe, streamlink)
# when they are missing. Debian and Ubuntu only; elsewhere it says what to do.
set -euo pipefail

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v streamlink >/dev/null 2>&1 || missing+=(streamlink)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if ! command -v apt-get >/dev/null 2>&1; then
  echo "lsdvr needs: $pkgs; install them with your package manager, then run this again." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "Installing $pkgs (Debian packages)..."
$sudo apt-get update -q
# --no-install-recommends keeps streamlink from pulling in a media player.
$sudo apt-get install -y --no-install-recommends $pkgs
