"""The referral service: referral letters (转办函) from the street to the unit that handles them."""
