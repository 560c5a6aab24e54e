"""Who is calling: caller-ID claims, PINs and SMS codes, and the lockout that guards them."""
