package providers

import (
	"context"
	"log/slog"
	"net/http"
	"slices"

	"github.com/oidc-exchange/oidc-exchange/exchange"
	"github.com/oidc-exchange/oidc-exchange/exchange/input"
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

// Audience is the audience to request from the CI platform: the one the
// user set, else the one the provider's cloud expects. A broker has no
// default: a token minted for a cloud must not be replayable to a broker,
// nor the reverse, so the broker has to demand its own.
func Audience(t Type, cfg Config, set string) (string, error) {
	if set != "" {
		return set, nil
	}
	switch t {
	case AWS:
		return aws.DefaultAudience(cfg.AWS.Region), nil
	case GCP:
		return gcp.DefaultAudience(cfg.GCP.WorkloadIdentityProvider), nil
	default:
		return "", exchange.InputError("audience", "is required with provider %s: request the broker's own audience, so a token minted for a cloud cannot be replayed to it", t)
	}
}

// Inputs lists the declarations of provider t's settings, for the flags,
// the help and the tests that hold action.yml and the README against them.
func Inputs(t Type) []input.Spec {
	switch t {
	case AWS:
		return input.Specs(aws.Inputs())
	case GCP:
		return input.Specs(gcp.Inputs())
	case Broker:
		return input.Specs(broker.Inputs())
	default:
		return nil
	}
}

// ReadConfig fills the settings of provider t from src through its table
// and reports every malformed value at once; [New] then validates them.
func ReadConfig(t Type, src input.Source, getenv func(string) string) (Config, error) {
	var cfg Config
	var err error
	switch t {
	case AWS:
		err = input.Apply(&cfg.AWS, aws.Inputs(), src, getenv)
	case GCP:
		err = input.Apply(&cfg.GCP, gcp.Inputs(), src, getenv)
	case Broker:
		err = input.Apply(&cfg.Broker, broker.Inputs(), src, getenv)
	}
	return cfg, err
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
