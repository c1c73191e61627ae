//go:build tools

// Package tools pins the regtest binaries (btcd, btcctl, lnd, lncli) so one
// `go build` of this module reproduces them. lnd's go.mod has replace lines,
// which `go install pkg@version` refuses, hence this wrapper module.
package tools

import (
	_ "github.com/btcsuite/btcd"
	_ "github.com/btcsuite/btcd/cmd/btcctl"
	_ "github.com/lightningnetwork/lnd/cmd/lncli"
	_ "github.com/lightningnetwork/lnd/cmd/lnd"
)
