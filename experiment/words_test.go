package experiment

import "github.com/convscope/convscope/web/i18n"

// english draws the tests' figures in English, as the command line does.
var english Say = i18n.In(i18n.English)
