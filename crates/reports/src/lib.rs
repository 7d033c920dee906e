//! Documents made from domain data: pure functions from records to bytes.

pub mod chart;
pub mod csv;
pub mod framework_xlsx;
pub mod map;
pub mod photo_sheet;
pub mod qr;
pub mod questionnaire_xlsx;
pub mod table_read;
pub mod table_xlsx;
pub mod tasks_xlsx;
pub mod workbook;
