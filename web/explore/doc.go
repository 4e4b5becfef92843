// Package explore is the room of the main page: pick or draw an input, watch
// every layer's feature maps arrive over the websocket, read the class
// probabilities, and click a map to see its deconvnet projection. The page
// is rendered here; everything live is done by static/js over /ws.
package explore
