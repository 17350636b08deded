"""Seeing what is wrong: health reasons, the HQ link state, key modes, systemd notify, doctor."""
