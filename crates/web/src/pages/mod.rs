pub mod compare;
pub mod convert;
pub mod lab;
pub mod privacy;
pub mod results;
pub mod run;
pub mod runs;
