package experiment

// Say puts a figure's words in the reader's language: Say(key, args...) is
// the message of key ("figure.…", kept with the app's other text in
// web/i18n's en/figure.json and vi/figure.json) formatted with args, as
// i18n.Tr does. The command line draws its figures in English.
type Say func(key string, args ...any) string
