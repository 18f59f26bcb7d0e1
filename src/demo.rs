pub async fn run(_dir: Option<std::path::PathBuf>) -> i32 { 0 }
