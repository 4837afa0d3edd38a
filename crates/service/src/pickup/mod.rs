pub mod notice_pdf;
