"""The year's cash (DESIGN §5b): budgets per service and fiscal year, calls for funds on a
schedule, mid-year revisions and the year-end true-up. Domain only: no Flask, no ``app``."""
