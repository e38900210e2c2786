package providers

import (
	"context"
	"log/slog"
	"net/http"
	"slices"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/providers/aws"
	"github.com/oidc-exchange/oidc-exchange/providers/broker"
	"github.com/oidc-exchange/oidc-exchange/providers/gcp"
)

// Type names a provider, as in the action's provider input.
type Type string

// The providers this build knows.
const (
	AWS    Type = "aws"
	GCP    Type = "gcp"
	Broker Type = "broker"
)

// Types lists the known providers, sorted.
func Types() []Type {
	t := []Type{AWS, Broker, GCP}
	slices.Sort(t)
	return t
}

// ParseType validates a provider name.
func ParseType(s string) (Type, error) {
	for _, t := range Types() {
		if string(t) == s {
			return t, nil
		}
	}
	return "", exchange.InputError("provider", "unknown provider %q, valid providers are %q", exchange.Sanitize(s), Types())
}

// Config holds each provider's settings; only the one named by the Type is
// read. HTTPClient and Logger are infrastructure shared by all.
type Config struct {
	AWS        aws.Config
	GCP        gcp.Config
	Broker     broker.Config
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// DefaultAudience is the audience a provider's cloud expects when the user
// sets none. Brokers have none: each must demand its own.
func DefaultAudience(t Type, cfg Config) string {
	switch t {
	case AWS:
		return aws.DefaultAudience(cfg.AWS.Region)
	case GCP:
		return gcp.DefaultAudience(cfg.GCP.WorkloadIdentityProvider)
	default:
		return ""
	}
}

// New builds the provider named t.
func New(_ context.Context, t Type, cfg Config) (exchange.Provider, error) {
	switch t {
	case AWS:
		c := cfg.AWS
		c.HTTPClient = cfg.HTTPClient
		c.Logger = cfg.Logger
		return aws.New(c)
	case GCP:
		c := cfg.GCP
		c.HTTPClient = cfg.HTTPClient
		c.Logger = cfg.Logger
		return gcp.New(c)
	case Broker:
		c := cfg.Broker
		c.HTTPClient = cfg.HTTPClient
		c.Logger = cfg.Logger
		return broker.New(c)
	default:
		return nil, exchange.InputError("provider", "unknown provider %q, valid providers are %q", exchange.Sanitize(string(t)), Types())
	}
}
