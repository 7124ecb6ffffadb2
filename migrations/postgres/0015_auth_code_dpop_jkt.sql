-- Issue 19, DPoP (RFC 9449 §10): an authorization request may name the thumbprint of the DPoP
-- key its code will be redeemed with (`dpop_jkt`); the code keeps it, and the token request
-- must prove that key.
ALTER TABLE auth_codes ADD COLUMN dpop_jkt TEXT;
