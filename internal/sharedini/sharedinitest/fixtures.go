package sharedinitest

import "github.com/oidc-exchange/oidc-exchange/exchange"

// Fake values with the characters real ones have: AWS secret keys are
// base64 with '/', '+' and '='. Process is a credential_process line with
// quotes, spaces, '#' and ';', which the SDKs read verbatim.
const (
	KeyID   = "FAKE-key-id-0001"
	Secret  = "FAKE/secret+key/with=base64=="
	Token   = "FAKE-session/token+value=="
	Process = `"/tmp/x y/oidc-exchange" aws --role-arn arn:aws:iam::123456789012:role/a --role-session-name ci#1;x`
)

// Secrets are the fake secrets of [CredentialsSection].
func Secrets() []string { return []string{KeyID, Secret, Token} }

// ConfigSection is a config-file profile with a region and Process.
func ConfigSection(profile string, replace bool) exchange.Section {
	return exchange.Section{File: "aws-config", PathEnv: "AWS_CONFIG_FILE", Name: "profile " + profile, Replace: replace,
		Keys: []exchange.Variable{
			exchange.PlainVariable("region", "eu-west-1"),
			exchange.PlainVariable("credential_process", Process),
		}}
}

// CredentialsSection is a credentials-file profile with the fake secrets.
func CredentialsSection(profile string, replace bool) exchange.Section {
	return exchange.Section{File: "aws-credentials", PathEnv: "AWS_SHARED_CREDENTIALS_FILE", Name: profile, Replace: replace,
		Keys: []exchange.Variable{
			exchange.SecretVariable("aws_access_key_id", exchange.NewSecret(KeyID)),
			exchange.SecretVariable("aws_secret_access_key", exchange.NewSecret(Secret)),
			exchange.SecretVariable("aws_session_token", exchange.NewSecret(Token)),
		}}
}

// UserConfig is a config file a user or an earlier step wrote: comments,
// nested values, values with '#', ';' and quotes, and a profile named like
// the ones the tests write.
const UserConfig = `# Written by hand; keep this comment.
[default]
region = us-east-1
output=json

; The user's own profile.
[profile user]
region = eu-central-1
s3 =
  max_concurrent_requests = 20
  addressing_style = path
credential_process = /opt/bin/helper "a b" --tag x#1;y
role_arn = 'arn:aws:iam::123456789012:role/quoted'

[sso-session corp]
sso_start_url = https://example.localhost/start
# A comment at the end of the file.
`
