//! What every stage runs on: thread pools that survive `fork`, work that can be interrupted,
//! panics turned into errors ([`parallel`]), and input-sized buffers allocated fallibly
//! ([`memory`]).

pub mod memory;
pub mod parallel;
