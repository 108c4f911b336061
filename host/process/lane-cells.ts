// The shared cells of one lane (process/lanes.ts, kernel/lane-broker.ts): an Int32Array the
// kernel, the writing worker and the reading worker all see.

/** the lane's state, set by the kernel (OPEN while both ends live and nothing asks it to close) */
export const STATE = 0;
export const OPEN = 0;
/** the kernel asks the writer to end the lane (an observer listens): it writes its end mark */
export const CLOSING = 1;
/** the writer's instance is gone: the reader takes what is left and lets the lane go */
export const WRITER_GONE = 2;
/** the reader's instance is gone: the writer lets the lane go */
export const READER_GONE = 3;
/** 1 while the writer may send requests over the lane (it may message the reader); responses always may */
export const REQUESTS = 1;
/** reader -> writer: messages and bytes taken so far (the writer's mailbox bound) */
export const TAKEN_MESSAGES = 2;
export const TAKEN_BYTES = 3;
export const LANE_CTL_BYTES = 16;
