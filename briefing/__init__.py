"""Weekly opinion briefing (舆情周报) and daily duty report (值班日报), computed from the records."""
