//go:build tools

// Package tools pins actionlint, the linter `make lint-actions` runs on the
// GitHub Action (action.yml, through .github/workflows/action-selftest.yml)
// and on the example workflows in docs/examples. It lives in a module of its
// own so its dependencies stay out of gotk-rules' go.mod.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
