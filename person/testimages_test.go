package person

// nobodyImages are real photos with nobody in them (testdata/; see
// testdata/README.md for their source).
var nobodyImages = []string{"nobody_fruits.jpg", "nobody_baboon.jpg", "nobody_room.jpg"}
