"""Rules 7 to 11 of the hiring hall: labor requests, bids, dispatches, terminations, and the fairness record."""
