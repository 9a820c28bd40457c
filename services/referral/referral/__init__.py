"""The referral service: letters (转办函) from opinions handed on, to the unit that answers them."""
