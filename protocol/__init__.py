"""What child and DV cases share: stages, deadlines, conferences, plans, referrals."""
