"""Serving a crowd on one link, in one place: who a visitor is (`identity`), whose reading runs next on the
cores (`fair`), and what any request may cost before it is read (`limits`)."""
