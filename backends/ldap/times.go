package ldap

import (
	"strings"
	"time"
)

// NativeTime reads LDAP GeneralizedTime (RFC 4517: 20060102150405Z, with
// an optional fraction and an offset instead of Z), the form of every
// directory timestamp (createTimestamp, pwdChangedTime, ...), as the time
// it is. The mapping shows such values of SCIM dateTime attributes as RFC
// 3339; see backends.Kind.
func NativeTime(s string) (time.Time, bool) {
	if t, ok := generalizedTimeUTC(s); ok {
		return t, true
	}
	return parseGeneralizedTime(strings.TrimSpace(s))
}

// parseGeneralizedTime reads the forms of LDAP GeneralizedTime that
// directories write.
func parseGeneralizedTime(v string) (time.Time, bool) {
	for _, layout := range []string{"20060102150405Z0700", "20060102150405.999999999Z0700", "20060102150405Z"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// generalizedTimeUTC reads the form YYYYMMDDHHMMSSZ, which every LDAP
// entry's timestamps use, without going through time.Parse.
func generalizedTimeUTC(s string) (time.Time, bool) {
	if len(s) != 15 || s[14] != 'Z' {
		return time.Time{}, false
	}
	for i := range 14 {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, false
		}
	}
	num := func(i, j int) int {
		n := 0
		for _, c := range s[i:j] {
			n = n*10 + int(c-'0')
		}
		return n
	}
	mo, d, h, mi, sec := num(4, 6), num(6, 8), num(8, 10), num(10, 12), num(12, 14)
	t := time.Date(num(0, 4), time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Month() != time.Month(mo) || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != sec {
		return time.Time{}, false // out of range (month 13, February 30, ...): time.Parse decides
	}
	return t, true
}
