"""Clearing (日清日结): per business day, per store and consolidated, what each payment channel
should bring in, reconciled against the signed day closes, recorded in immutable runs."""
