"""Pure script model and rule catalogue for Infobip IVR scenarios (no I/O)."""
