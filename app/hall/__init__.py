"""The union hiring hall: members on referral books in priority order, employers' labor requests, dispatches.

Fairness is the product: every change of a registration follows a numbered rule (docs/hall.md) and writes its
``registration_activities`` row and its outbox event in the same transaction.
"""
