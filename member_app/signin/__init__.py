"""Signing members in: PKCE, Perkville's Identify User Flow, and the step-up between them."""
