"""The shared working-day calendar (工作日): statutory holidays and adjusted working weekends.

Legal time limits (行政许可法, complaint replies) count working days. ``chinese_calendar`` knows the
State Council schedule up to its last published year; later years come from
``config/calendar_overrides.yml``. A date neither covers raises ``CalendarNotCovered``: a silent
Monday-to-Friday guess would put wrong due dates on real applications around Spring Festival.
"""
