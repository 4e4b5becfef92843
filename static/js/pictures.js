// The picture the explorer shows when the visitor sent it (a file, a
// drawing, a camera frame): its id (the SHA-256 of its bytes, as the
// server names it) and its bytes. main.js keeps it here to send it again
// after a reconnection; classroom.js sends it with a teacher's moves, so
// that a student whose page runs on another replica can have it.
export const picture = { id: '', blob: null };
