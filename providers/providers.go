package providers

import (
	"context"
	"log/slog"
	"maps"
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

// registry holds what the program knows of each provider: one line each.
// split, when not nil, turns one configuration into the several exchanges
// it asks for (AWS roles).
// A new provider is a package, its Type, its Config field and its line
// here. It is a function so that nothing is built at package init.
func registry() map[Type]entry {
	return map[Type]entry{
		AWS: register(func(c *Config) *aws.Config { return &c.AWS }, aws.Inputs,
			func(c *aws.Config) string { return aws.DefaultAudience(c.Region) }, aws.New, (*aws.Config).Parts),
		GCP: register(func(c *Config) *gcp.Config { return &c.GCP }, gcp.Inputs,
			func(c *gcp.Config) string { return gcp.DefaultAudience(c.WorkloadIdentityProvider) }, gcp.New, nil),
		// A broker has no default audience: a token minted for a cloud
		// must not be replayable to a broker, nor the reverse, so the
		// broker has to demand its own.
		Broker: register(func(c *Config) *broker.Config { return &c.Broker }, broker.Inputs, nil, broker.New, nil),
	}
}

// Types lists the known providers, sorted.
func Types() []Type {
	return slices.Sorted(maps.Keys(registry()))
}

// ParseType validates a provider name.
func ParseType(s string) (Type, error) {
	if _, ok := registry()[Type(s)]; ok {
		return Type(s), nil
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
// user set, else the one the provider's cloud expects, else an error for
// a provider that must be told.
func Audience(t Type, cfg Config, set string) (string, error) {
	if set != "" {
		return set, nil
	}
	if e, ok := registry()[t]; ok && e.audience != nil {
		return e.audience(&cfg), nil
	}
	return "", exchange.InputError("audience", "is required with provider %s: request the broker's own audience, so a token minted for a cloud cannot be replayed to it", t)
}

// Inputs lists the declarations of provider t's settings, for the flags,
// the help and the tests that hold action.yml and the README against them.
func Inputs(t Type) []input.Spec {
	if e, ok := registry()[t]; ok {
		return e.inputs()
	}
	return nil
}

// ReadConfig fills the settings of provider t from src through its table
// and reports every malformed value at once; [NewAll] then validates them.
func ReadConfig(t Type, src input.Source, getenv func(string) string) (Config, error) {
	var cfg Config
	e, ok := registry()[t]
	if !ok {
		return cfg, nil
	}
	return cfg, e.read(&cfg, src, getenv)
}

// NewAll builds the providers of every exchange cfg asks for: one, or
// one per role when an AWS configuration lists several (roles). They run
// from the same token, each with its own audit record.
func NewAll(_ context.Context, t Type, cfg Config) ([]exchange.Provider, error) {
	e, ok := registry()[t]
	if !ok {
		return nil, exchange.InputError("provider", "unknown provider %q, valid providers are %q", exchange.Sanitize(string(t)), Types())
	}
	return e.build(&cfg)
}

type entry struct {
	inputs   func() []input.Spec
	read     func(cfg *Config, src input.Source, getenv func(string) string) error
	audience func(cfg *Config) string
	build    func(cfg *Config) ([]exchange.Provider, error)
}

// settings is a provider's config: it takes the infrastructure the
// program shares.
type settings[C any] interface {
	WithInfrastructure(client *http.Client, logger *slog.Logger) C
}

// register makes the entry of a provider whose settings are C, kept in
// the field of [Config] that field names; audience is nil for a provider
// without a default.
func register[C settings[C], P exchange.Provider](field func(*Config) *C, inputs func() []input.Input[C],
	audience func(*C) string, newProvider func(C) (P, error), split func(*C) ([]C, error)) entry {
	e := entry{
		inputs: func() []input.Spec { return input.Specs(inputs()) },
		read: func(cfg *Config, src input.Source, getenv func(string) string) error {
			return input.Apply(field(cfg), inputs(), src, getenv)
		},
		build: func(cfg *Config) ([]exchange.Provider, error) {
			parts := []C{*field(cfg)}
			if split != nil {
				var err error
				if parts, err = split(field(cfg)); err != nil {
					return nil, err
				}
			}
			out := make([]exchange.Provider, 0, len(parts))
			for _, part := range parts {
				p, err := newProvider(part.WithInfrastructure(cfg.HTTPClient, cfg.Logger))
				if err != nil {
					return nil, err
				}
				out = append(out, p)
			}
			return out, nil
		},
	}
	if audience != nil {
		e.audience = func(cfg *Config) string { return audience(field(cfg)) }
	}
	return e
}
