"""Live broadcasts (Phát trực tiếp): a person speaks into the browser's microphone and the chosen
stations play it at once, pre-empting the programme through the same play-now path as emergencies.

- feeder: the browser's WebM/Opus chunks, in order, into ffmpeg, which feeds the Icecast mount (MP3)
  and keeps a recording;
- broadcasts: start (targets checked against the speaker's scope), announce to the stations once the
  mount is on air (MQTT command, and the HTTP status answer), stop, and what each station is told.
"""
