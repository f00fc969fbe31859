"""Django's default formats for English, as the clinic writes times (core/timefmt.py): "10:00 AM", never "10 a.m."
or "10:00" — for ``{{ value|time }}``, ``{{ value|date:"DATETIME_FORMAT" }}`` and a datetime shown as it is."""

TIME_FORMAT = "g:i A"  # 10:00 AM
DATETIME_FORMAT = "N j, Y, g:i A"  # Dec. 7, 2026, 10:00 AM
SHORT_DATETIME_FORMAT = "m/d/Y g:i A"  # 12/07/2026 10:00 AM
DATE_FORMAT = "N j, Y"
SHORT_DATE_FORMAT = "m/d/Y"
