"""Night-work permits (夜间施工许可): which site may work at night, when, under which certificate."""
