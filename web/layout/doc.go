// Package layout is the page shell every convscope page shares: head,
// header with navigation, main area, footer. Pages pass their content as
// children; the shell holds no state and does no work.
package layout
