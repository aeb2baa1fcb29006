#include "notes_app.hpp"

int main(int argc, char** argv) { return notes::make_app().run(argc, argv); }
