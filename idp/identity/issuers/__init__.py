"""The identity checks, one module each, behind `base.Issuer`."""
