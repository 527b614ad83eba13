fn main() {
    println!("postbag-proxy: not yet wired");
}
