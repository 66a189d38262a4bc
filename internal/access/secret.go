package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

const (
	// SecretPrefix starts every generated secret, so that secret scanners
	// and people recognise a billingd key.
	SecretPrefix = "bk_"
	// secretBytes of randomness: 256 bits, beyond any guessing.
	secretBytes = 32
	// shownPrefixLen is how much of a secret is stored in clear to help
	// people tell keys apart: "bk_" and 8 characters (40 of 256 bits).
	shownPrefixLen = len(SecretPrefix) + 8
	// MinBootstrapSecretLen keeps an operator-chosen bootstrap secret long
	// enough that the fast hash below stays safe (see HashSecret).
	MinBootstrapSecretLen = 32
	// maxSecretLen bounds what Authenticate hashes.
	maxSecretLen = 512
)

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a new bearer secret: "bk_" and 52 lower-case base32
// characters of 32 random bytes.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return SecretPrefix + strings.ToLower(secretEncoding.EncodeToString(b)), nil
}

// HashSecret is what the store keeps of a secret. A fast, unsalted SHA-256
// is right here, unlike for passwords: a generated secret carries 256 random
// bits, so there is no dictionary to try and brute force is hopeless however
// fast each guess is; slow, salted KDFs (bcrypt, Argon2) only protect
// low-entropy secrets and would cost every request tens of milliseconds. A
// deterministic hash also lets the store find the key by an index lookup on
// the hash, so authentication never compares secrets in a loop.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// shownPrefix is the part of a generated secret kept in clear; an
// operator-chosen one (the bootstrap key) keeps none, as its strength is
// unknown.
func shownPrefix(secret string) string {
	if !strings.HasPrefix(secret, SecretPrefix) || len(secret) != len(SecretPrefix)+secretEncoding.EncodedLen(secretBytes) {
		return ""
	}
	return secret[:shownPrefixLen]
}
