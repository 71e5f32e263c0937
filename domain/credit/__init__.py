"""Credit context (信用评价): credit records of enterprises, people and projects, their review and
appeals, and scores, grades and explanations computed as of any date from the rule catalogue."""
