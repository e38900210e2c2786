package stsfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// The parameter checks the actions share, in STS's terms: a constraint
// failure is a ValidationError whose message names the parameter in
// lowerCamelCase.

// Documented limits of AssumeRole's own parameters.
const (
	maxTags          = 50
	maxTagKeyLength  = 128
	maxTagValueLen   = 256
	maxExternalIDLen = 1224
)

var (
	externalIDRE   = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
	serialNumberRE = regexp.MustCompile(`^[\w+=/:,.@-]*$`)
	tokenCodeRE    = regexp.MustCompile(`^[0-9]{6}$`)
	// tagRE is the documented pattern of tag keys and values.
	tagRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// requireFields answers the first of fields the form lacks.
func requireFields(form url.Values, fields ...string) *Failure {
	for _, field := range fields {
		if form.Get(field) == "" {
			return validation(validationMessage("null", lowerFirst(field), "Member must not be null"))
		}
	}
	return nil
}

// singleValues rejects a parameter given more than once.
func singleValues(form url.Values) *Failure {
	for _, name := range slices.Sorted(maps.Keys(form)) {
		if n := len(form[name]); n != 1 {
			return validation(fmt.Sprintf("parameter %s is given %d times", name, n))
		}
	}
	return nil
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// checkName checks a RoleSessionName or SourceIdentity: 2–64 characters
// of [\w+=,.@-].
func checkName(value, field string) *Failure {
	switch {
	case len(value) < 2 || len(value) > 64:
		return validation(validationMessage(value, field, "Member must have length between 2 and 64"))
	case !sessionNameRE.MatchString(value):
		return validation(validationMessage(value, field, `Member must satisfy regular expression pattern: [\w+=,.@-]*`))
	}
	return nil
}

// durationSeconds parses DurationSeconds, 0 when absent, and checks it
// against STS's bounds and roleMax.
func durationSeconds(form url.Values, roleMax int) (int, *Failure) {
	v := form.Get("DurationSeconds")
	if v == "" {
		return 0, nil
	}
	d, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, validation(fmt.Sprintf("DurationSeconds %q is not an integer", v))
	case d < MinDurationSeconds:
		return 0, validation(validationMessage(v, "durationSeconds", "Member must have value greater than or equal to 900"))
	case d > MaxDurationSeconds:
		return 0, validation(validationMessage(v, "durationSeconds", "Member must have value less than or equal to 43200"))
	case d > roleMax:
		return 0, maxSessionExceeded()
	}
	return d, nil
}

func maxSessionExceeded() *Failure {
	return validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
}

// checkRoleARN checks the shape of RoleArn; whether the role exists is
// the trust check's concern.
func checkRoleARN(roleARN string) *Failure {
	if len(roleARN) < 20 || len(roleARN) > 2048 {
		return validation(validationMessage(roleARN, "roleArn", "Member must have length between 20 and 2048"))
	}
	if _, err := arn.Parse(roleARN); err != nil {
		return validation(roleARN + " is invalid")
	}
	return nil
}

// checkExternalID checks the shape of an ExternalId. Its value is not
// echoed: a trust policy's external id is a shared, if not secret, value.
func checkExternalID(v string) *Failure {
	switch {
	case len(v) < 2 || len(v) > maxExternalIDLen:
		return validation(validationMessage("(externalId)", "externalId", "Member must have length between 2 and 1224"))
	case !externalIDRE.MatchString(v):
		return validation(validationMessage("(externalId)", "externalId", `Member must satisfy regular expression pattern: [\w+=,.@:\/-]*`))
	}
	return nil
}

// checkMFA checks the shapes of SerialNumber and TokenCode.
func checkMFA(form url.Values) *Failure {
	if v := form.Get("SerialNumber"); form.Has("SerialNumber") && (len(v) < 9 || len(v) > 256 || !serialNumberRE.MatchString(v)) {
		return validation(validationMessage(v, "serialNumber", `Member must have length between 9 and 256 and satisfy regular expression pattern: [\w+=/:,.@-]*`))
	}
	if form.Has("TokenCode") && !tokenCodeRE.MatchString(form.Get("TokenCode")) {
		return validation(validationMessage("(tokenCode)", "tokenCode", `Member must have length 6 and satisfy regular expression pattern: [\d]*`))
	}
	return nil
}

// members returns the members of the list parameter prefix, "Tags" in
// Tags.member.N.Key, by N in ascending order: each member's fields by
// name, "" for a list of scalars (TransitiveTagKeys.member.N). A name
// under prefix that is not a member answers a ValidationError.
func members(form url.Values, prefix string) ([]map[string]string, *Failure) {
	byIndex := map[int]map[string]string{}
	for _, key := range slices.Sorted(maps.Keys(form)) {
		if !strings.HasPrefix(key, prefix+".") {
			continue
		}
		rest, ok := strings.CutPrefix(key, prefix+".member.")
		idx, field, _ := strings.Cut(rest, ".")
		i, err := strconv.Atoi(idx)
		// Only the canonical spelling of N, so "01" and "1" are not two
		// names of one member.
		if !ok || err != nil || i < 1 || strconv.Itoa(i) != idx {
			return nil, validation(fmt.Sprintf("parameter %s is not a valid %s member", key, prefix))
		}
		if byIndex[i] == nil {
			byIndex[i] = map[string]string{}
		}
		byIndex[i][field] = form.Get(key)
	}
	out := make([]map[string]string, 0, len(byIndex))
	for _, i := range slices.Sorted(maps.Keys(byIndex)) {
		out = append(out, byIndex[i])
	}
	return out, nil
}

// checkPolicies validates Policy and PolicyArns.member.N.arn and returns a
// packed-size percentage of them and of tagBytes (the session tags'
// size), 0 when there is neither.
func checkPolicies(form url.Values, tagBytes int) (int, *Failure) {
	size := tagBytes
	if p := form.Get("Policy"); p != "" {
		if len(p) > maxPolicyLength {
			return 0, validation(validationMessage("(policy)", "policy", "Member must have length less than or equal to 2048"))
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(p), &obj); err != nil {
			return 0, &Failure{Code: CodeMalformedPolicyDocument, Message: "The policy is not in the valid JSON format."}
		}
		size += len(p)
	}
	arns, fail := members(form, "PolicyArns")
	if fail != nil {
		return 0, fail
	}
	for _, m := range arns {
		v, ok := m["arn"]
		if !ok || len(m) != 1 {
			return 0, validation("a PolicyArns member must have exactly the field arn")
		}
		a, err := arn.Parse(v)
		if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "policy/") {
			return 0, validation(fmt.Sprintf("policy ARN %s is invalid", v))
		}
		size += len(v)
	}
	if len(arns) > maxPolicyARNs {
		return 0, validation(validationMessage("(policyArns)", "policyArns", "Member must have length less than or equal to 10"))
	}
	if size == 0 {
		return 0, nil
	}
	// A stand-in for STS's packing: the share of the plaintext limit used.
	return max(1, size*100/maxPolicyLength), nil
}

// checkTags validates Tags.member.N.{Key,Value} and
// TransitiveTagKeys.member.N and returns the tags' size in bytes.
func checkTags(form url.Values) (int, *Failure) {
	tags, fail := members(form, "Tags")
	if fail != nil {
		return 0, fail
	}
	if len(tags) > maxTags {
		return 0, validation(validationMessage("(tags)", "tags", "Member must have length less than or equal to 50"))
	}
	size := 0
	seen := map[string]bool{}
	for i, t := range tags {
		field := fmt.Sprintf("tags.%d.member", i+1)
		key, hasKey := t["Key"]
		value, hasValue := t["Value"]
		switch {
		case !hasKey:
			return 0, validation(validationMessage("null", field+".key", "Member must not be null"))
		case !hasValue:
			return 0, validation(validationMessage("null", field+".value", "Member must not be null"))
		case len(t) != 2:
			return 0, validation(fmt.Sprintf("Tags member %d has fields other than Key and Value", i+1))
		case key == "" || utf8.RuneCountInString(key) > maxTagKeyLength:
			return 0, validation(validationMessage(key, field+".key", "Member must have length between 1 and 128"))
		case !tagRE.MatchString(key):
			return 0, validation(validationMessage(key, field+".key", `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`))
		case utf8.RuneCountInString(value) > maxTagValueLen:
			return 0, validation(validationMessage(value, field+".value", "Member must have length less than or equal to 256"))
		case !tagRE.MatchString(value):
			return 0, validation(validationMessage(value, field+".value", `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`))
		case seen[strings.ToLower(key)]:
			return 0, validation("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(key)] = true
		size += len(key) + len(value)
	}
	transitive, fail := members(form, "TransitiveTagKeys")
	if fail != nil {
		return 0, fail
	}
	if len(transitive) > maxTags {
		return 0, validation(validationMessage("(transitiveTagKeys)", "transitiveTagKeys", "Member must have length less than or equal to 50"))
	}
	for i, m := range transitive {
		key, ok := m[""]
		field := fmt.Sprintf("transitiveTagKeys.%d.member", i+1)
		switch {
		case !ok || len(m) != 1:
			return 0, validation(fmt.Sprintf("TransitiveTagKeys member %d is not a list item", i+1))
		case key == "" || utf8.RuneCountInString(key) > maxTagKeyLength:
			return 0, validation(validationMessage(key, field, "Member must have length between 1 and 128"))
		case !tagRE.MatchString(key):
			return 0, validation(validationMessage(key, field, `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`))
		}
	}
	return size, nil
}
