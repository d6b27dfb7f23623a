package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// secretPrefix marks Mirador API keys, so that people and secret scanners can
// recognise one, and so that a credential meant for something else is
// rejected without a database lookup.
const secretPrefix = "mir_"

const secretBytes = 32

// secretLen is the length of every secret: the prefix and 32 bytes in
// unpadded base64url.
var secretLen = len(secretPrefix) + base64.RawURLEncoding.EncodedLen(secretBytes)

// newSecret returns a fresh API key secret.
func newSecret() (string, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// looksLikeSecret reports whether s has the shape of a secret newSecret made.
func looksLikeSecret(s string) bool {
	return len(s) == secretLen && strings.HasPrefix(s, secretPrefix)
}

// hashSecret is what is stored and looked up instead of the secret. A single
// fast SHA-256 is right here: secrets carry 256 random bits, so there is
// nothing for a slow password hash (bcrypt, argon2) to protect against
// guessing, and it would cost milliseconds on every cache miss.
func hashSecret(secret string) [sha256.Size]byte {
	// Copy into a stack buffer: []byte(secret) would allocate on the hot path.
	var buf [64]byte
	if len(secret) <= len(buf) {
		n := copy(buf[:], secret)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(secret))
}

func hashHex(h [sha256.Size]byte) string { return hex.EncodeToString(h[:]) }

var keyIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// keyIDLen characters of base32 carry 60 random bits: enough that IDs do not
// collide, short enough to type into 'mirador keys revoke'.
const keyIDLen = 12

// newKeyID returns a short random identifier for a key. It is not secret.
func newKeyID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return keyIDEncoding.EncodeToString(b[:])[:keyIDLen], nil
}
