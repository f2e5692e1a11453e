"""`loaxa normalize`, `loaxa speak`, `loaxa render`: text to speech from the command line."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from web.cli.context import load_env, progress


@click.command(help="Đọc văn bản từ stdin, in cách đọc thành lời (mỗi dòng vào một dòng ra).")
@click.option("--variant", type=click.Choice(["north", "south"]), default=None,
              help="Giọng Bắc (linh, nghìn) hay Nam (lẻ, ngàn).")
@click.option("--lexicon", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Tệp TSV bổ sung từ viết tắt: viết_tắt<TAB>cách_đọc.")
def normalize(variant: str | None, lexicon: Path | None) -> None:
    from audio.text import Lexicon, normalize_lines

    lex = Lexicon.default()
    if lexicon is not None:
        lex = lex.with_entries(dict(Lexicon.from_file(lexicon).items()))
    lines = sys.stdin.read().splitlines()
    for line in normalize_lines(lines, variant=variant or "north", lexicon=lex):
        click.echo(line)


@click.command(help="Đọc tệp văn bản thành tệp MP3 sẵn sàng phát sóng.")
@click.argument("file", metavar="TỆP", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Tệp MP3 kết quả.")
@click.option("--engine", default=None, help="gtts, edge hoặc espeak (mặc định: thứ tự trong cấu hình).")
@click.option("--voice", default=None, help="Giọng đọc của công cụ đã chọn (bỏ trống: giọng mặc định).")
@click.option("--language", default="vi", show_default=True, help="Mã ngôn ngữ của văn bản (vi: tiếng Việt).")
def speak(file: Path, output: Path, engine: str | None, voice: str | None, language: str) -> None:
    from audio.errors import AudioError
    from audio.pipeline import render_text_to_file

    settings = load_env().settings.audio
    try:
        result = render_text_to_file(file.read_text(encoding="utf-8"), output, language=language,
                                     settings=settings, engine=engine, voice=voice)
    except AudioError as exc:
        raise click.ClickException(str(exc)) from None
    for warning in result.warnings:
        click.echo(f"Cảnh báo: {warning}", err=True)
    click.echo(f"Đã ghi {output} ({result.duration_ms / 1000:.1f} giây, {result.loudness_lufs:.1f} LUFS, "
               f"giọng {result.engine}/{result.voice}).")


@click.command(help="Chuyển ngay mọi bản tin đang chờ thành âm thanh.")
@click.option("--engines", default=None, help="Thứ tự bộ đọc, ví dụ espeak hoặc gtts,espeak.")
def render(engines: str | None) -> None:
    from scheduler.rendering import render_pending
    from web.app import system_clock

    env = load_env()
    audio = env.settings.audio
    if engines:
        audio = replace(audio, engines=tuple(e.strip() for e in engines.split(",") if e.strip()))
    summary = render_pending(env.sessions, env.settings.media_dir, audio, system_clock,
                             show=lambda items, total: progress(items, total, "Đang đọc bản tin"))
    for code, warnings in summary.warnings.items():
        for warning in warnings:
            click.echo(f"Cảnh báo {code}: {warning}", err=True)
    for code, error in summary.failed.items():
        click.echo(f"Lỗi {code}: {error}", err=True)
    click.echo(f"Đã đọc {len(summary.rendered)} bản tin; {len(summary.failed)} lỗi.")
