"""Alerts to people: rules over the stations' state, who hears of them, by e-mail and webhook.

- `rules`: the rule kinds, their defaults, and the pure decision (facts + rules + now -> conditions);
- `facts`: what the rules read, gathered from the database (liveness, status, emergencies, relays);
- `messages`: the Vietnamese texts of an alert, its recovery and the daily summary;
- `channels`: delivery by SMTP (smtplib) and by webhook (generic JSON, Telegram, Zalo OA);
- `engine`: the service job: open, de-duplicate, notify, recover, summarise;
- `config`: rules and recipients as admins edit them (page /canh-bao and `loaxa alert`).
"""
