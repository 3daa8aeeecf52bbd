package config

import (
	"fmt"
	"math"
	"strings"
	"unicode"
)

// MinSecretBits is the least estimated entropy a bearer token or password
// given in clear must have. `scimbridge token create` makes 256 random
// bits, estimated at 190 or more.
const MinSecretBits = 80

// SecretAdvice says how to make a secret that passes CheckSecret.
const SecretAdvice = "Create one with `scimbridge token create --raw` (256 random bits) and pass it through the " +
	"environment, or list the `hash` that `scimbridge token create` prints; `openssl rand -base64 32` works too."

// maxEstimated bounds the characters EstimateBits reads; longer secrets
// are judged by their start.
const maxEstimated = 256

// placeholders are phrases of sample configurations and manifests. Each has
// at least 7 characters, so that one appears by chance in a random
// 43-character token with a probability near 1e-9.
var placeholders = []string{
	"replace-me", "replace_me", "replaceme", "change-me", "change_me", "changeme", "example",
	"placeholder", "your-token", "your_token", "yourtoken", "token-create", "insert-your",
}

// commonWords are words that people put in hand-made secrets; each costs
// a guesser a few bits, not a few bits per letter.
var commonWords = []string{
	"password", "passwd", "secret", "token", "bearer", "access", "admin", "root", "user", "login",
	"test", "testing", "demo", "sample", "dummy", "default", "local", "dev", "prod", "staging",
	"scim", "bridge", "okta", "entra", "azure", "onelogin", "ldap", "sql", "api", "key",
	"welcome", "letmein", "hello", "qwerty", "qwertz", "azerty", "asdf", "zxcv", "monkey", "dragon",
	"master", "summer", "winter", "spring", "autumn", "company", "env", "abc", "xyz", "foo", "bar", "baz",
}

// CheckSecret says why secret is unfit as a bearer token or password given
// in clear: a placeholder, or too easy to guess by a conservative estimate
// (repeated characters, runs such as "abcd" or "4321", repetitions of an
// earlier part, common words). It returns empty strings for a fit secret.
// The secret itself never appears in what it returns.
func CheckSecret(secret string) (summary, detail string) {
	lower := strings.ToLower(secret)
	for _, p := range placeholders {
		if strings.Contains(lower, p) {
			return "Placeholder secret", fmt.Sprintf("This looks like a placeholder (it contains %q), not a secret. %s", p, SecretAdvice)
		}
	}
	if bits := EstimateBits(secret); bits < MinSecretBits {
		return "Weak secret", fmt.Sprintf("This is too easy to guess: about %d bits by a conservative estimate, at least %d are needed "+
			"(repeated characters, runs like \"abcd\" or \"0123\", repeated parts and common words count little). %s",
			int(bits), MinSecretBits, SecretAdvice)
	}
	return "", ""
}

// EstimateBits estimates how many bits a guesser who knows the usual
// shortcuts needs for s. It reads s from left to right, taking at each
// position the longest of: a run of one repeated character, an ascending
// or descending run ("abc", "987"), a repetition of an earlier part, or a
// common word or a year; such a part costs a few bits whatever its length. A part
// that reads like a word of some language ("Company", "acme") costs what
// picking one among 65,536 words does. Any other
// character costs log2 of the alphabet its classes span (lower case,
// upper case, digits, punctuation, other). It errs low for hand-made
// strings and is close to the truth for random ones. Only the first
// maxEstimated characters are read (the work is cubic in the length).
func EstimateBits(s string) float64 {
	r := []rune(s)
	if len(r) > maxEstimated {
		r = r[:maxEstimated]
	}
	lower := []rune(strings.ToLower(string(r)))
	perChar := math.Log2(alphabet(r))
	bits := 0.0
	for i := 0; i < len(r); {
		n, cost := 1, perChar
		consider := func(m int, c float64) {
			if m >= 3 && (m > n || m == n && c < cost) {
				n, cost = m, c
			}
		}
		consider(sameRun(r, i), perChar+math.Log2(float64(sameRun(r, i))))
		if m := stepRun(r, i); m >= 3 {
			consider(m, perChar+1+math.Log2(float64(m)))
		}
		if m := earlierRepeat(r, i); m >= 3 {
			consider(m, math.Log2(float64(i))+math.Log2(float64(m)))
		}
		for _, w := range commonWords {
			if hasPrefix(lower[i:], w) {
				consider(len(w), math.Log2(float64(len(commonWords)))+1)
			}
		}
		if yearAt(r, i) {
			consider(4, 7) // 1900 to 2099
		}
		if m := wordAt(r, i); m >= 4 && m <= 12 {
			consider(m, min(float64(m)*perChar, wordBits))
		}
		bits += cost
		i += n
	}
	return bits
}

// wordBits is the cost of a word-like part: one word of a 65,536-word
// dictionary, and its capitalisation.
const wordBits = 17

// wordAt is the length of the word-like part at i, or 0: letters from a
// word start (not after a letter, or an upper-case letter after a lower-case
// one) up to the next non-letter or upper-case letter, in lower case or
// capitalised, a third of them or more vowels and no more than three
// consonants in a row. Random strings rarely have such parts.
func wordAt(r []rune, i int) int {
	isLower := func(c rune) bool { return c >= 'a' && c <= 'z' }
	isUpper := func(c rune) bool { return c >= 'A' && c <= 'Z' }
	if !isLower(r[i]) && !isUpper(r[i]) || i > 0 && (isLower(r[i-1]) || isUpper(r[i-1]) && isUpper(r[i])) {
		return 0
	}
	n := 1
	for i+n < len(r) && isLower(r[i+n]) {
		n++
	}
	if i+n < len(r) && isUpper(r[i+n]) && isUpper(r[i]) && n == 1 {
		return 0 // upper-case runs are not words here
	}
	vowels, consonants := 0, 0
	for _, c := range strings.ToLower(string(r[i : i+n])) {
		if strings.ContainsRune("aeiou", c) {
			vowels, consonants = vowels+1, 0
			continue
		}
		if consonants++; consonants > 3 {
			return 0
		}
	}
	if 3*vowels < n {
		return 0
	}
	return n
}

// yearAt reports whether a year of 1900 to 2099 starts at i.
func yearAt(r []rune, i int) bool {
	if i+4 > len(r) {
		return false
	}
	for _, c := range r[i : i+4] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return string(r[i:i+2]) == "19" || string(r[i:i+2]) == "20"
}

func alphabet(r []rune) float64 {
	var lower, upper, digit, punct, other bool
	for _, c := range r {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		case c < 128 && unicode.IsPrint(c):
			punct = true
		default:
			other = true
		}
	}
	size := 0.0
	for _, cl := range []struct {
		in   bool
		size float64
	}{{lower, 26}, {upper, 26}, {digit, 10}, {punct, 33}, {other, 100}} {
		if cl.in {
			size += cl.size
		}
	}
	return max(size, 2)
}

// sameRun is how many times r[i] repeats from i on.
func sameRun(r []rune, i int) int {
	n := 1
	for i+n < len(r) && r[i+n] == r[i] {
		n++
	}
	return n
}

// stepRun is the length of the run from i whose code points step by +1 or
// -1 ("abcd", "3210").
func stepRun(r []rune, i int) int {
	if i+1 >= len(r) {
		return 1
	}
	d := r[i+1] - r[i]
	if d != 1 && d != -1 {
		return 1
	}
	n := 2
	for i+n < len(r) && r[i+n]-r[i+n-1] == d {
		n++
	}
	return n
}

// earlierRepeat is the longest m such that r[i:i+m] also starts at some
// j < i (overlaps allowed, so "abcabcabc" is "abc" and one repeat).
func earlierRepeat(r []rune, i int) int {
	m := 0
	for j := 0; j < i; j++ {
		k := 0
		for i+k < len(r) && r[j+k] == r[i+k] {
			k++
		}
		m = max(m, k)
	}
	return m
}

func hasPrefix(r []rune, w string) bool {
	wr := []rune(w)
	if len(r) < len(wr) {
		return false
	}
	for k, c := range wr {
		if r[k] != c {
			return false
		}
	}
	return true
}
