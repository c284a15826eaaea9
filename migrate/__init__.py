"""ivr-migrate: bulk migrations of Infobip Voice IVR scenarios."""

__version__ = "0.1.0"
