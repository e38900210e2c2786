// Package input declares a program's settings once, as data: each [Input]
// names its action input, its CLI flag, its environment fallbacks, its
// default, its [Kind], its doc line, whether it is a secret, and the
// setter that stores its value into a typed config.
//
// One table then drives every way a value arrives: [Apply] fills a config
// from any [Source] (the runner's INPUT_* variables, or the flags a
// [FlagSet] collected), [Bind] declares the flags and their help
// ([PrintDefaults] names each flag's kind of value), and tests hold
// action.yml and the README against the same table. So an
// input is added in one place, and it cannot exist under one name in the
// action and another in the CLI by accident.
//
// Errors name the setting as the user typed it: [Apply] reports a bad
// value under the input's name as an [exchange.SettingError], and [Rename]
// rewrites the setting names in an error tree (the flags, in the CLI).
package input
