package gcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/internal/httpclient"
)

// Names of the credentials file and of the variables that point at it.
const (
	CredentialsFilePrefix = "gha-creds-"
	CredentialsFileExt    = ".json"

	// EnvApplicationCredentials is read by every Google client library.
	EnvApplicationCredentials = "GOOGLE_APPLICATION_CREDENTIALS"
	// EnvCloudSDKCredentialFile is read by gcloud, gsutil and bq.
	EnvCloudSDKCredentialFile = "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"
	// EnvGHACredsPath is google-github-actions/auth's own pointer, which
	// its post step and google-github-actions/setup-gcloud read.
	EnvGHACredsPath = "GOOGLE_GHA_CREDS_PATH"
)

// CredentialsFileVariables lists the environment variables that receive
// the credentials file's path when export-environment-variables is set.
func CredentialsFileVariables() []string {
	return []string{EnvApplicationCredentials, EnvCloudSDKCredentialFile, EnvGHACredsPath}
}

// externalAccount is the external_account credentials file, in the field
// order of google-github-actions/auth's files.
type externalAccount struct {
	Type                           string                       `json:"type"`
	Audience                       string                       `json:"audience"`
	SubjectTokenType               string                       `json:"subject_token_type"`
	TokenURL                       string                       `json:"token_url"`
	CredentialSource               credentialSource             `json:"credential_source"`
	ServiceAccountImpersonationURL string                       `json:"service_account_impersonation_url,omitempty"`
	ServiceAccountImpersonation    *serviceAccountImpersonation `json:"service_account_impersonation,omitempty"`
	UniverseDomain                 string                       `json:"universe_domain"`
}

type credentialSource struct {
	File    string            `json:"file,omitempty"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Format  *sourceFormat     `json:"format,omitempty"`
}

type sourceFormat struct {
	Type                  string `json:"type"`
	SubjectTokenFieldName string `json:"subject_token_field_name,omitempty"`
}

type serviceAccountImpersonation struct {
	TokenLifetimeSeconds int `json:"token_lifetime_seconds"`
}

// credentialsFile renders the external_account credentials file for a
// validated cfg, whose impersonated tokens live for lifetime:
// Google's client libraries and gcloud read it through
// GOOGLE_APPLICATION_CREDENTIALS and refresh by themselves, fetching a
// fresh CI token from src for every STS exchange, so long jobs do not
// outlive a five-minute token (google-github-actions/auth #474). With a
// service account it impersonates it for access-token-lifetime, which a
// file without token_lifetime_seconds would leave at the libraries'
// one-hour default.
//
// The content is a secret: src's headers carry the CI platform's request
// token, which can mint tokens for the rest of the job. The file
// impersonates the service account itself, not an access-token-subject
// user, and it cannot carry an access boundary, so cfg must have none.
func credentialsFile(cfg *Config, lifetime time.Duration, src *exchange.CredentialSource) (exchange.Secret, error) {
	if cfg.AccessBoundary != "" {
		return exchange.Secret{}, exchange.InputError("access-boundary", "cannot be expressed in an external_account credentials file; later steps would refresh un-downscoped tokens from it")
	}
	cs, err := fileCredentialSource(src)
	if err != nil {
		return exchange.Secret{}, err
	}
	doc := externalAccount{
		Type:             "external_account",
		Audience:         stsAudience(cfg.WorkloadIdentityProvider),
		SubjectTokenType: SubjectTokenType,
		TokenURL:         cfg.stsTokenURL(),
		CredentialSource: cs,
		UniverseDomain:   cfg.universe(),
	}
	if cfg.ServiceAccount != "" {
		doc.ServiceAccountImpersonationURL = cfg.impersonationURL()
		doc.ServiceAccountImpersonation = &serviceAccountImpersonation{TokenLifetimeSeconds: int(lifetime.Seconds())}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// The token URL carries "&audience=": escaped as \u0026 it would still
	// work, but the file is printed by --format external-account for
	// people to read.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return exchange.Secret{}, fmt.Errorf("encoding the credentials file: %w", err)
	}
	return exchange.NewSecret(buf.String()), nil
}

// fileCredentialSource translates the CI edge's description of its token
// source; it is nil when the edge cannot describe one.
func fileCredentialSource(src *exchange.CredentialSource) (credentialSource, error) {
	const input = "create-credentials-file"
	if src == nil {
		return credentialSource{}, exchange.InputError(input, "a credentials file refreshes by fetching fresh CI tokens, which needs the CI platform's token endpoint or a token file, and this token source offers neither; set create-credentials-file: false and use the token outputs")
	}
	var cs credentialSource
	switch {
	case src.URL != "" && src.File != "":
		return cs, errors.New("the CI token source describes both a URL and a file")
	case src.URL != "":
		u, err := url.Parse(src.URL)
		if err != nil {
			return cs, errors.New("the CI token source's URL does not parse")
		}
		// The file makes later processes send the request token there.
		if err := httpclient.CheckURL(u); err != nil {
			return cs, fmt.Errorf("the CI token source's URL: %w", err)
		}
		cs.URL = src.URL
		for k, v := range src.Headers {
			if cs.Headers == nil {
				cs.Headers = map[string]string{}
			}
			cs.Headers[k] = v.Reveal()
		}
	case src.File != "":
		cs.File = src.File
	default:
		return cs, errors.New("the CI token source describes neither a URL nor a file")
	}
	if src.JSONField != "" {
		cs.Format = &sourceFormat{Type: "json", SubjectTokenFieldName: src.JSONField}
	} else {
		cs.Format = &sourceFormat{Type: "text"}
	}
	return cs, nil
}
