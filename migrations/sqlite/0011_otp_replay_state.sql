-- Issue 17, one-time passwords: an OTP credential's replay state, constant per credential. The
-- lowest moving factor (TOTP time step, HOTP counter) still acceptable; NULL before the first
-- use and for other credential types. A use is recorded by a conditional UPDATE
-- (`otp_next IS NULL OR otp_next <= used`), so of two concurrent uses of one code one wins.
-- OTP secrets stored in plain text by earlier versions are sealed under the master key at
-- start-up (`users::otp::seal_plaintext_secrets`): SQL cannot do AES-GCM.
ALTER TABLE credentials ADD COLUMN otp_next INTEGER;
